"""The web layer: the app factory, one small HTTP toolkit, REST per resource, Socket.IO actions, pages."""
