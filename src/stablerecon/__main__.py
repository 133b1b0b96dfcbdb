from stablerecon.cli import main

main()
