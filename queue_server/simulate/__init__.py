"""The day simulator (`qms simulate`, `qms calibrate`): SimPy days of the centre driving the core's own rules,
for staffing what-ifs and for measuring the wait estimate (docs/simulator.md)."""
