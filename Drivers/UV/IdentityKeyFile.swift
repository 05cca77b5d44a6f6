// Placeholder replaced in the next commit by the identity key file store.
import TraverseCore
