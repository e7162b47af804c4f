//go:build !(linux || darwin || freebsd)

package app

import "errors"

// volumeSpace is not implemented here: the free-space floor is off.
func volumeSpace(string) (free, total int64, err error) {
	return 0, 0, errors.New("free space cannot be read on this system")
}
