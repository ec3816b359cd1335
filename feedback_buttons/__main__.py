"""`python -m feedback_buttons --server URL --token T`: the keypad agent (feedback_buttons/agent/)."""
import sys

from feedback_buttons.agent.main import main

sys.exit(main())
