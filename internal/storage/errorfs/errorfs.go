// Package errorfs wraps a storage.FS and makes chosen operations fail, in
// the spirit of pebble's errorfs: ENOSPC or EIO at the k-th write, a short
// write, a failing fsync, a disk that is full until it is not. Tests use it
// to prove that storage reports every failure and loses nothing it
// acknowledged.
//
// Every operation asks the Injector first. Writes that fail may be short:
// part of the data reaches the file before the error is returned, as a
// real disk filling up would do. Files of the wrapped file system never
// expose their *os.File, so nothing (sendfile, mmap) bypasses the wrapper.
//
// FS and its files are safe for concurrent use if the Injector is.
package errorfs

import (
	"fmt"
	"io/fs"
	"os"
	"sync"
	"syscall"

	"github.com/strait-kafka/strait/internal/storage"
)

// Op is a kind of file system operation.
type Op int

const (
	OpOpen     Op = iota // opening an existing file
	OpCreate             // opening with O_CREATE
	OpRead               // ReadAt
	OpWrite              // Write, WriteAt
	OpSync               // Sync (files and directories)
	OpTruncate           // Truncate
	OpRename             // Rename
	OpRemove             // Remove, RemoveAll
	OpMkdir              // MkdirAll
	OpReadDir            // ReadDir
	OpStat               // Stat
	numOps
)

var opNames = [...]string{"open", "create", "read", "write", "sync", "truncate", "rename", "remove", "mkdir", "readdir", "stat"}

func (o Op) String() string {
	if o >= 0 && o < numOps {
		return opNames[o]
	}
	return fmt.Sprintf("op(%d)", int(o))
}

// Ops is a set of operations.
type Ops uint32

// Of makes a set.
func Of(ops ...Op) Ops {
	var s Ops
	for _, o := range ops {
		s |= 1 << o
	}
	return s
}

// Has reports whether o is in the set.
func (s Ops) Has(o Op) bool { return s&(1<<o) != 0 }

// WritesAndSyncs is what changes the disk's contents.
var WritesAndSyncs = Of(OpWrite, OpSync, OpTruncate, OpCreate, OpRename)

// Fault is what an Injector decides for one operation.
type Fault struct {
	Err error // nil: the operation runs normally
	// Short, for a failing write: write the first half of the data before
	// returning Err.
	Short bool
}

// Injector decides the fate of each operation. It must be safe for
// concurrent use.
type Injector interface {
	Inject(op Op, path string) Fault
}

// FS is a storage.FS whose operations an Injector can fail.
type FS struct {
	inner storage.FS
	inj   Injector
}

// Wrap returns inner with inj's faults.
func Wrap(inner storage.FS, inj Injector) *FS { return &FS{inner: inner, inj: inj} }

func pathErr(op Op, path string, err error) error {
	return &fs.PathError{Op: op.String(), Path: path, Err: err}
}

func (e *FS) check(op Op, path string) error {
	if f := e.inj.Inject(op, path); f.Err != nil {
		return pathErr(op, path, f.Err)
	}
	return nil
}

func (e *FS) OpenFile(name string, flag int, perm os.FileMode) (storage.File, error) {
	op := OpOpen
	if flag&os.O_CREATE != 0 {
		op = OpCreate
	}
	if err := e.check(op, name); err != nil {
		return nil, err
	}
	f, err := e.inner.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &file{f: f, fs: e, name: name}, nil
}

func (e *FS) Remove(name string) error {
	if err := e.check(OpRemove, name); err != nil {
		return err
	}
	return e.inner.Remove(name)
}

func (e *FS) RemoveAll(name string) error {
	if err := e.check(OpRemove, name); err != nil {
		return err
	}
	return e.inner.RemoveAll(name)
}

func (e *FS) Rename(oldpath, newpath string) error {
	if err := e.check(OpRename, oldpath); err != nil {
		return err
	}
	return e.inner.Rename(oldpath, newpath)
}

func (e *FS) MkdirAll(path string, perm os.FileMode) error {
	if err := e.check(OpMkdir, path); err != nil {
		return err
	}
	return e.inner.MkdirAll(path, perm)
}

func (e *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	if err := e.check(OpReadDir, name); err != nil {
		return nil, err
	}
	return e.inner.ReadDir(name)
}

func (e *FS) Stat(name string) (fs.FileInfo, error) {
	if err := e.check(OpStat, name); err != nil {
		return nil, err
	}
	return e.inner.Stat(name)
}

type file struct {
	f    storage.File
	fs   *FS
	name string
}

func (f *file) ReadAt(p []byte, off int64) (int, error) {
	if err := f.fs.check(OpRead, f.name); err != nil {
		return 0, err
	}
	return f.f.ReadAt(p, off)
}

func (f *file) WriteAt(p []byte, off int64) (int, error) {
	if fl := f.fs.inj.Inject(OpWrite, f.name); fl.Err != nil {
		n := 0
		if fl.Short && len(p) > 1 {
			n, _ = f.f.WriteAt(p[:len(p)/2], off)
		}
		return n, pathErr(OpWrite, f.name, fl.Err)
	}
	return f.f.WriteAt(p, off)
}

func (f *file) Write(p []byte) (int, error) {
	if fl := f.fs.inj.Inject(OpWrite, f.name); fl.Err != nil {
		n := 0
		if fl.Short && len(p) > 1 {
			n, _ = f.f.Write(p[:len(p)/2])
		}
		return n, pathErr(OpWrite, f.name, fl.Err)
	}
	return f.f.Write(p)
}

func (f *file) Truncate(size int64) error {
	if err := f.fs.check(OpTruncate, f.name); err != nil {
		return err
	}
	return f.f.Truncate(size)
}

func (f *file) Sync() error {
	if err := f.fs.check(OpSync, f.name); err != nil {
		return err
	}
	return f.f.Sync()
}

func (f *file) Close() error               { return f.f.Close() }
func (f *file) Stat() (fs.FileInfo, error) { return f.f.Stat() }
func (f *file) Name() string               { return f.name }

// Nth fails the Nth (counting from 0) operation in Ops, once, with Err.
// Before that, and after, everything works. Count reports how many
// matching operations it saw, so a dry run (N < 0) measures a workload.
type Nth struct {
	Ops   Ops
	N     int
	Err   error
	Short bool

	mu    sync.Mutex
	seen  int
	fired string // "op path" of the failed operation
}

func (n *Nth) Inject(op Op, path string) Fault {
	if !n.Ops.Has(op) {
		return Fault{}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	i := n.seen
	n.seen++
	if i != n.N {
		return Fault{}
	}
	n.fired = op.String() + " " + path
	return Fault{Err: n.Err, Short: n.Short && op == OpWrite}
}

// Count is how many matching operations were seen.
func (n *Nth) Count() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.seen
}

// Fired names the operation that failed ("" if none did).
func (n *Nth) Fired() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.fired
}

// Full is a disk that fails every operation in Ops with ENOSPC while it is
// full.
type Full struct {
	Ops Ops

	mu   sync.Mutex
	full bool
	hits int
}

// Set fills or empties the disk.
func (f *Full) Set(full bool) {
	f.mu.Lock()
	f.full = full
	f.mu.Unlock()
}

// Hits is how many operations failed.
func (f *Full) Hits() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits
}

func (f *Full) Inject(op Op, path string) Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.full || !f.Ops.Has(op) {
		return Fault{}
	}
	f.hits++
	return Fault{Err: syscall.ENOSPC, Short: op == OpWrite}
}
