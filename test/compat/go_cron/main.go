// Command gocron evaluates cron schedules with robfig/cron v3 (the parser Velero uses), so Arca's
// own parser can be compared with it. It reads lines "spec<TAB>unix-seconds" on stdin and prints,
// for each, the next activation as unix seconds, "none", or "error".
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		spec, at, ok := strings.Cut(in.Text(), "\t")
		if !ok {
			fmt.Fprintln(os.Stderr, "gocron: bad input line:", in.Text())
			os.Exit(2)
		}
		secs, err := strconv.ParseInt(at, 10, 64)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gocron: bad time:", at)
			os.Exit(2)
		}
		sched, err := cron.ParseStandard(spec)
		if err != nil {
			fmt.Fprintln(out, "error")
			continue
		}
		next := sched.Next(time.Unix(secs, 0).UTC())
		if next.IsZero() {
			fmt.Fprintln(out, "none")
		} else {
			fmt.Fprintln(out, next.Unix())
		}
	}
}
