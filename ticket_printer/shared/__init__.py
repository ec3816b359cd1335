"""What the printer agent and the server's printing share: the slip's layout and rendering."""
