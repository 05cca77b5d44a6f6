// The `traverse` executable.
import ArgumentParser

await TraverseCommand.main()
