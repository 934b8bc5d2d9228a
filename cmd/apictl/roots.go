package main

// The container image is FROM scratch: no CA bundle on disk. The fallback
// roots are used only when the system has none, so apictl can still reach
// AWS over TLS there.
import _ "golang.org/x/crypto/x509roots/fallback"
