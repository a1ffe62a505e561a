"""The chat's widgets: the conversation, the question input, the sources pane, the welcome panel, the
indexing progress strip and the status bar. Each shows what it is given; none calls the controller."""
