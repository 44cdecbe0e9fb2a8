from rightsledger.cli import main

main()
