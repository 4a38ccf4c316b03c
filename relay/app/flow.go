package app

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"siegel/shared/flow"
)

const flowUsage = `Usage: relay flow check FILE...

Checks bot flow documents (docs/FLOWS.md). Prints one line per problem,
FILE:LINE:COL: message, and exits with status 1 if there is any; prints
nothing and exits with status 0 if every file is valid.
`

// cmdFlow runs "relay flow check FILE...".
func cmdFlow(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "check" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprint(stdout, flowUsage)
			return flag.ErrHelp
		}
		fmt.Fprint(stderr, flowUsage)
		return errUsage
	}
	fs := flag.NewFlagSet("flow check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, flowUsage) }
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprint(stderr, flowUsage)
		return errUsage
	}
	problems, unreadable := 0, 0
	for _, name := range fs.Args() {
		src, err := readFlowFile(name)
		if err != nil {
			fmt.Fprintf(stderr, "relay flow: %v\n", err)
			unreadable++
			continue
		}
		for _, p := range flow.Check(name, src) {
			fmt.Fprintln(stdout, p.String())
			problems++
		}
	}
	switch {
	case problems > 0 && unreadable > 0:
		return fmt.Errorf("%d problem(s), %d file(s) not readable", problems, unreadable)
	case problems > 0:
		return fmt.Errorf("%d problem(s)", problems)
	case unreadable > 0:
		return fmt.Errorf("%d file(s) not readable", unreadable)
	}
	return nil
}

// readFlowFile reads a flow document, refusing files beyond the size limit
// without reading them whole.
func readFlowFile(name string) ([]byte, error) {
	fh, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	src, err := io.ReadAll(io.LimitReader(fh, flow.MaxSourceSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return src, nil
}
