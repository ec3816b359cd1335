"""What the LED agent and the server's LED part share: Modbus RTU frames and the register values of a number."""
