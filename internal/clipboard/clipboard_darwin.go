package clipboard

func tools() []tool { return []tool{{[]string{"pbcopy"}, utf8}} }
