"""The local AWS: a moto server, the template's resources on it, a local SES with its mailbox
simulator, the REST API on loopback, and the functions run as Lambda would. A product of its
own: only the `local` and `demo` commands (and the tests, benchmarks) import it."""
