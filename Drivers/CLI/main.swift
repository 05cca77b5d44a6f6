// The `traverse` executable.
import ArgumentParser

TraverseCommand.main()
