package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// MaxDecompressedSize bounds what Decompress will produce from one batch, so a
// small hostile batch cannot make the broker allocate without limit.
const MaxDecompressedSize = 256 << 20

// xerialMagic starts the framing that Java clients (snappy-java's
// SnappyOutputStream) put around snappy blocks: the magic, then a version and
// a minimum compatible version (int32 each), then chunks of
// int32 length + raw snappy block.
var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

const xerialHeaderSize = 16

// String names the codec as Kafka's compression.type does.
func (c Codec) String() string {
	switch c {
	case CodecNone:
		return "none"
	case CodecGzip:
		return "gzip"
	case CodecSnappy:
		return "snappy"
	case CodecLZ4:
		return "lz4"
	case CodecZstd:
		return "zstd"
	}
	return fmt.Sprintf("codec(%d)", int8(c))
}

// Pools: gzip and lz4 readers and writers are stateful and reset per use;
// zstd's EncodeAll and DecodeAll are safe for concurrent use, so one of each
// is shared.
var (
	gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}
	gzipReaders sync.Pool // *gzip.Reader; the zero value needs Reset before use
	lz4Writers  = sync.Pool{New: func() any {
		w := lz4.NewWriter(nil)
		// Kafka's Java client also uses 64 KiB blocks; the default 4 MiB
		// would pin large buffers in every pooled writer.
		_ = w.Apply(lz4.BlockSizeOption(lz4.Block64Kb))
		return w
	}}
	lz4Readers = sync.Pool{New: func() any { return lz4.NewReader(nil) }}

	zstdOnce sync.Once
	zstdEnc  *zstd.Encoder
	zstdDec  *zstd.Decoder
	zstdErr  error
)

func zstdCodecs() (*zstd.Encoder, *zstd.Decoder, error) {
	zstdOnce.Do(func() {
		zstdEnc, zstdErr = zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
		if zstdErr != nil {
			return
		}
		zstdDec, zstdErr = zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(0),
			zstd.WithDecoderMaxMemory(MaxDecompressedSize))
	})
	return zstdEnc, zstdDec, zstdErr
}

// Compress compresses in with codec c. CodecNone returns in itself. Snappy
// output is a raw snappy block (what librdkafka and franz-go send); every
// Kafka client reads it.
func Compress(c Codec, in []byte) ([]byte, error) {
	switch c {
	case CodecNone:
		return in, nil
	case CodecGzip:
		var buf bytes.Buffer
		w := gzipWriters.Get().(*gzip.Writer)
		defer gzipWriters.Put(w)
		w.Reset(&buf)
		if _, err := w.Write(in); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	case CodecSnappy:
		return snappy.Encode(nil, in), nil
	case CodecLZ4:
		var buf bytes.Buffer
		w := lz4Writers.Get().(*lz4.Writer)
		defer lz4Writers.Put(w)
		w.Reset(&buf)
		if _, err := w.Write(in); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	case CodecZstd:
		enc, _, err := zstdCodecs()
		if err != nil {
			return nil, err
		}
		return enc.EncodeAll(in, nil), nil
	}
	return nil, fmt.Errorf("%w: compression codec %d", ErrInvalid, int8(c))
}

// Decompress reverses Compress for any codec. Snappy input may be a raw
// block or xerial-framed. Output is capped at MaxDecompressedSize. Every
// failure wraps ErrCorrupt (ErrInvalid for an unknown codec).
func Decompress(c Codec, in []byte) ([]byte, error) {
	return decompress(c, in, MaxDecompressedSize)
}

// decompress is Decompress with the output cap as a parameter (zstd's cap is
// fixed when its shared decoder is built).
func decompress(c Codec, in []byte, limit int) ([]byte, error) {
	var (
		out []byte
		err error
	)
	switch c {
	case CodecNone:
		return in, nil
	case CodecGzip:
		out, err = gunzip(in, limit)
	case CodecSnappy:
		out, err = unsnappy(in, limit)
	case CodecLZ4:
		r := lz4Readers.Get().(*lz4.Reader)
		r.Reset(bytes.NewReader(in))
		out, err = readCapped(r, limit)
		r.Reset(nil)
		lz4Readers.Put(r)
	case CodecZstd:
		var dec *zstd.Decoder
		if _, dec, err = zstdCodecs(); err == nil {
			out, err = dec.DecodeAll(in, nil)
		}
	default:
		return nil, fmt.Errorf("%w: compression codec %d", ErrInvalid, int8(c))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, c, err)
	}
	return out, nil
}

func gunzip(in []byte, limit int) ([]byte, error) {
	r, _ := gzipReaders.Get().(*gzip.Reader)
	if r == nil {
		r = new(gzip.Reader)
	}
	defer gzipReaders.Put(r)
	if err := r.Reset(bytes.NewReader(in)); err != nil {
		return nil, err
	}
	out, err := readCapped(r, limit)
	if err != nil {
		return nil, err
	}
	return out, r.Close()
}

// readCapped reads r to the end, failing once more than limit bytes come out.
func readCapped(r io.Reader, limit int) ([]byte, error) {
	out, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if len(out) > limit {
		return nil, errTooLarge
	}
	return out, nil
}

var errTooLarge = errors.New("decompressed size above the limit")

func unsnappy(in []byte, limit int) ([]byte, error) {
	if len(in) < xerialHeaderSize || !bytes.HasPrefix(in, xerialMagic) {
		return unsnappyBlock(nil, in, limit)
	}
	var out []byte
	for rest := in[xerialHeaderSize:]; len(rest) > 0; {
		if len(rest) < 4 {
			return nil, errors.New("xerial: truncated chunk length")
		}
		n := binary.BigEndian.Uint32(rest)
		rest = rest[4:]
		if uint64(n) > uint64(len(rest)) {
			return nil, fmt.Errorf("xerial: chunk of %d bytes, %d left", n, len(rest))
		}
		var err error
		if out, err = unsnappyBlock(out, rest[:n], limit); err != nil {
			return nil, err
		}
		rest = rest[n:]
	}
	return out, nil
}

// unsnappyBlock appends the decoding of one raw snappy block to dst.
func unsnappyBlock(dst, block []byte, limit int) ([]byte, error) {
	n, err := snappy.DecodedLen(block)
	if err != nil {
		return nil, err
	}
	if n < 0 || len(dst)+n > limit {
		return nil, errTooLarge
	}
	if dst == nil {
		return snappy.Decode(nil, block)
	}
	dec, err := snappy.Decode(make([]byte, n), block)
	if err != nil {
		return nil, err
	}
	return append(dst, dec...), nil
}
