// compose-validate loads compose files the way `docker compose config` does, through the Compose
// Specification's reference loader (compose-go): schema, interpolation, normalisation and the
// consistency checks (undefined networks, volumes, configs, secrets, dependencies). Exit 1 on
// the first file that fails, with compose-go's message.
//
// Usage: compose-validate FILE...
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/cli"
)

func validate(ctx context.Context, file string) error {
	abs, err := filepath.Abs(file)
	if err != nil {
		return err
	}
	opts, err := cli.NewProjectOptions(
		[]string{abs},
		cli.WithName("ai-dualstack"),
		cli.WithWorkingDirectory(filepath.Dir(abs)),
		// env_file entries hold the secrets and exist only on the machine that runs the stack.
		cli.WithoutEnvironmentResolution,
		cli.WithConsistency(true),
	)
	if err != nil {
		return err
	}
	_, err = opts.LoadProject(ctx)
	return err
}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" {
		fmt.Fprintln(os.Stderr, "usage: compose-validate FILE...  (validates compose files with compose-go)")
		os.Exit(2)
	}
	ctx := context.Background()
	for _, file := range os.Args[1:] {
		if err := validate(ctx, file); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", file, err)
			os.Exit(1)
		}
		fmt.Printf("%s: valid\n", file)
	}
}
