// Command etcd wraps etcdmain so that a pinned etcd server can be built from the Go
// module proxy: `go install` of etcd itself fails on its replace directives.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
