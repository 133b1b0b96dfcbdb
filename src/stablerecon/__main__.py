from stablerecon.cli import app

app(prog_name="stablerecon")
