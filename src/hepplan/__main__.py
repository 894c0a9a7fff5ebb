from hepplan.cli import main

main()
