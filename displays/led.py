"""`python -m displays.led --server URL --token T`: starts the LED agent (displays/agent/, docs/led.md)."""
if __name__ == "__main__":
    from displays.agent.main import main

    raise SystemExit(main())
