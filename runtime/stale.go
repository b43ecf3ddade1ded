package runtime

// GofkaGenIsStale_RerunGoGenerate pins a user function to the signature the
// generated code was made for. Generated files call it, with F the expected
// signature, inside a function that never runs; when the user's function changes,
// the build fails with
//
//	cannot use f (value of type …) as … value in argument to runtime.GofkaGenIsStale_RerunGoGenerate[…]
//
// which says what to do: run go generate (gofkagen) again.
func GofkaGenIsStale_RerunGoGenerate[F any](f F) {}
