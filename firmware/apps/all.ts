// Every app, registered by importing it. One line per app.
