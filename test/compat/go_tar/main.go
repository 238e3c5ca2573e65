// Command gotar reads and writes backup tarballs exactly the way Velero does (compress/gzip over
// archive/tar from Go's standard library), so Arca's archive code can be checked against the real
// reader and writer in both directions.
//
//	gotar read FILE    prints "name<TAB>size<TAB>fnv1a64" for each entry
//	gotar write FILE   writes a sample backup as Velero would and prints the same listing
package main

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"strings"
	"time"
)

func fnv64(b []byte) uint64 {
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

func read(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if h.Typeflag != tar.TypeReg {
			return fmt.Errorf("entry %s has type %c, Velero writes regular files only", h.Name, h.Typeflag)
		}
		if h.Mode != 0o755 {
			return fmt.Errorf("entry %s has mode %o, Velero writes 0755", h.Name, h.Mode)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return err
		}
		fmt.Printf("%s\t%d\t%016x\n", h.Name, len(data), fnv64(data))
	}
}

func write(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	entries := []struct{ name, content string }{
		{"metadata/version", "1.1.0\n"},
		{"resources/namespaces/cluster/shop.json", `{"apiVersion":"v1","kind":"Namespace"}`},
		{"resources/configmaps/namespaces/shop/" + strings.Repeat("c", 253) + ".json", strings.Repeat("x", 5000)},
		{"resources/widgets.example.com/v1-preferredversion/namespaces/" + strings.Repeat("n", 63) + "/w.json", "{}"},
		{"resources/secrets/namespaces/shop/empty.json", ""},
	}
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Size: int64(len(e.content)), Typeflag: tar.TypeReg, Mode: 0o755, ModTime: time.Now()}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write([]byte(e.content)); err != nil {
			return err
		}
		fmt.Printf("%s\t%d\t%016x\n", e.name, len(e.content), fnv64([]byte(e.content)))
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gotar read|write FILE")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "read":
		err = read(os.Args[2])
	case "write":
		err = write(os.Args[2])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gotar:", err)
		os.Exit(1)
	}
}
