from displays.agent.main import main

raise SystemExit(main())
