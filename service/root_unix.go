//go:build !windows

package service

import (
	"errors"
	"os"

	"github.com/trustwatch/trustwatch/internal/catalog"
)

func refuseRoot() error {
	if os.Geteuid() != 0 {
		return nil
	}
	return errors.New(catalog.Current().T("cli.root.refuse", nil))
}
