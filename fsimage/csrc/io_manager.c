/*
 * io_manager.c: a libext2fs io_manager whose block I/O calls back into Rust
 * (src/ffi.rs) to a BlockDevice, so any layer (file, overlay, qcow2) can sit
 * under the file system.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>
#include <ext2fs/ext2_err.h>

/* Implemented in Rust (src/ffi.rs). They return 0 or a positive errno. */
extern int wsh_dev_read(void *dev, uint64_t off, void *buf, size_t len);
extern int wsh_dev_write(void *dev, uint64_t off, const void *buf, size_t len);
extern int wsh_dev_flush(void *dev);

/* ------------------------------------------------------------------------ */
/* The io_manager: block I/O forwarded to a Rust BlockDevice.                */

/* Single blocks kept back (inode table, bitmaps, extent blocks). */
#define NSLOTS 16

struct wsh_chan {
	void *dev;
	int writable;
	/*
	 * Write-back buffering. libext2fs writes a file's data a block at a time
	 * and rewrites the file's inode block after each one; as 4 KiB pwrites
	 * that was most of the cost of writing a file. Runs of consecutive blocks
	 * are gathered in `wbuf`, and single blocks written elsewhere (the inode
	 * table, bitmaps) wait in `slot`s, the latest write of a block replacing
	 * the one before. A read that pending writes hold whole is served from
	 * them; a read overlapping them in part, a full buffer, flush and close
	 * write everything out first. So reads see every write.
	 * (There is no journal: between flushes, the order of writes to different
	 * blocks carries no meaning.)
	 */
	unsigned char *wbuf;
	uint64_t woff;
	size_t wlen;
	struct slot {
		uint64_t off;
		unsigned char *data;
		int used;
	} slot[NSLOTS];
	size_t slot_len;
	/*
	 * Read-ahead: a read of the block right after the previous read fetches
	 * RBUF_CAP bytes at once; later reads inside that window are copies. Any
	 * write overlapping the window drops it.
	 */
	unsigned char *rbuf;
	uint64_t roff;
	size_t rlen;
	uint64_t last_end;
};

/* Read-ahead window. */
#define RBUF_CAP (256 * 1024)

/* Drops the read-ahead window if [off, off+len) overlaps it. */
static void read_stale(struct wsh_chan *p, uint64_t off, size_t len)
{
	if (p->rlen && off < p->roff + p->rlen && p->roff < off + len)
		p->rlen = 0;
}

/* Largest run gathered before it is written out. */
#define WBUF_CAP (1024 * 1024)

/* Writes everything pending to the device; 0 or the first positive errno. */
static int wflush(struct wsh_chan *p)
{
	int err = 0, e, i;

	if (p->wlen) {
		err = wsh_dev_write(p->dev, p->woff, p->wbuf, p->wlen);
		p->wlen = 0;
	}
	for (i = 0; i < NSLOTS; i++) {
		if (!p->slot[i].used)
			continue;
		e = wsh_dev_write(p->dev, p->slot[i].off, p->slot[i].data,
				  p->slot_len);
		p->slot[i].used = 0;
		if (!err)
			err = e;
	}
	return err;
}

/* Whether [off, off+len) overlaps anything pending. */
static int pending(struct wsh_chan *p, uint64_t off, size_t len)
{
	int i;

	if (p->wlen && off < p->woff + p->wlen && p->woff < off + len)
		return 1;
	for (i = 0; i < NSLOTS; i++)
		if (p->slot[i].used && off < p->slot[i].off + p->slot_len &&
		    p->slot[i].off < off + len)
			return 1;
	return 0;
}

/*
 * Copies [off, off+len) from the pending writes if they hold all of it (a
 * partial block written by one call is read back by the next: serving it here
 * keeps the run pending instead of writing everything out). Returns 1 when
 * served. The run and the slots never overlap (see wsh_write64).
 */
static int read_pending(struct wsh_chan *p, uint64_t off, size_t len,
			void *data)
{
	int i;

	if (p->wlen && off >= p->woff && off + len <= p->woff + p->wlen) {
		memcpy(data, p->wbuf + (off - p->woff), len);
		return 1;
	}
	for (i = 0; i < NSLOTS; i++)
		if (p->slot[i].used && off >= p->slot[i].off &&
		    off + len <= p->slot[i].off + p->slot_len) {
			memcpy(data, p->slot[i].data + (off - p->slot[i].off),
			       len);
			return 1;
		}
	return 0;
}

/*
 * Keeps one block-sized write at `off` in a slot (replacing an older write of
 * the same block). Returns 1 when it was kept, 0 when there is no room.
 */
static int keep_block(struct wsh_chan *p, uint64_t off, const void *data,
		      size_t len)
{
	int i, free_i = -1;

	if (p->slot_len && p->slot_len != len)
		return 0;
	for (i = 0; i < NSLOTS; i++) {
		if (p->slot[i].used && p->slot[i].off == off) {
			memcpy(p->slot[i].data, data, len);
			return 1;
		}
		if (!p->slot[i].used && free_i < 0)
			free_i = i;
	}
	if (free_i < 0)
		return 0;
	if (!p->slot[free_i].data &&
	    ext2fs_get_mem(len, &p->slot[free_i].data))
		return 0;
	p->slot_len = len;
	p->slot[free_i].off = off;
	p->slot[free_i].used = 1;
	memcpy(p->slot[free_i].data, data, len);
	return 1;
}

/* Drops slots that a newer write of [off, off+len) covers whole. */
static void drop_covered(struct wsh_chan *p, uint64_t off, size_t len)
{
	int i;

	for (i = 0; i < NSLOTS; i++)
		if (p->slot[i].used && p->slot[i].off >= off &&
		    p->slot[i].off + p->slot_len <= off + len)
			p->slot[i].used = 0;
}

static errcode_t write_err(int err)
{
	return err == ENOSPC ? (errcode_t)ENOSPC : EXT2_ET_SHORT_WRITE;
}

struct struct_io_manager wsh_io_manager_struct;

static errcode_t wsh_open(const char *name, int flags, io_channel *channel)
{
	void *dev = NULL;
	io_channel io = NULL;
	struct wsh_chan *priv = NULL;
	errcode_t rc;

	/* The device pointer travels in the name, as "wshdev:<pointer>". */
	if (!name || sscanf(name, "wshdev:%p", &dev) != 1 || !dev)
		return EXT2_ET_BAD_DEVICE_NAME;
	rc = ext2fs_get_memzero(sizeof(*io), &io);
	if (rc)
		return rc;
	rc = ext2fs_get_memzero(sizeof(*priv), &priv);
	if (rc)
		goto fail;
	rc = ext2fs_get_mem(strlen(name) + 1, &io->name);
	if (rc)
		goto fail;
	strcpy(io->name, name);
	priv->dev = dev;
	priv->writable = (flags & IO_FLAG_RW) != 0;
	io->magic = EXT2_ET_MAGIC_IO_CHANNEL;
	io->manager = &wsh_io_manager_struct;
	io->block_size = 1024;
	io->refcount = 1;
	io->private_data = priv;
	*channel = io;
	return 0;
fail:
	if (priv)
		ext2fs_free_mem(&priv);
	if (io)
		ext2fs_free_mem(&io);
	return rc;
}

static errcode_t wsh_close(io_channel io)
{
	struct wsh_chan *p = io->private_data;
	int err, i;

	if (--io->refcount > 0)
		return 0;
	err = wflush(p);
	if (p->wbuf)
		ext2fs_free_mem(&p->wbuf);
	if (p->rbuf)
		ext2fs_free_mem(&p->rbuf);
	for (i = 0; i < NSLOTS; i++)
		if (p->slot[i].data)
			ext2fs_free_mem(&p->slot[i].data);
	ext2fs_free_mem(&io->private_data);
	if (io->name)
		ext2fs_free_mem(&io->name);
	ext2fs_free_mem(&io);
	return err ? write_err(err) : 0;
}

static errcode_t wsh_set_blksize(io_channel io, int blksize)
{
	io->block_size = blksize;
	return 0;
}

/* A negative count means bytes rather than blocks (libext2fs convention). */
static size_t span(io_channel io, int count)
{
	return count < 0 ? (size_t)(-(long)count) : (size_t)count * io->block_size;
}

static errcode_t wsh_read64(io_channel io, unsigned long long block, int count,
			    void *data)
{
	struct wsh_chan *p = io->private_data;
	size_t len = span(io, count);
	uint64_t off = block * io->block_size;
	int err;

	if (read_pending(p, off, len, data))
		return 0;
	if (pending(p, off, len)) {
		err = wflush(p);
		if (err)
			return write_err(err);
	}
	if (p->rlen && off >= p->roff && off + len <= p->roff + p->rlen) {
		memcpy(data, p->rbuf + (off - p->roff), len);
		p->last_end = off + len;
		return 0;
	}
	if (off == p->last_end && len < RBUF_CAP &&
	    (p->rbuf || !ext2fs_get_mem(RBUF_CAP, &p->rbuf))) {
		/* Pending writes inside the window must land before it is read. */
		if (pending(p, off, RBUF_CAP)) {
			err = wflush(p);
			if (err)
				return write_err(err);
		}
		p->rlen = 0;
		/* Near the device's end the window does not fit: read plainly. */
		if (!wsh_dev_read(p->dev, off, p->rbuf, RBUF_CAP)) {
			p->roff = off;
			p->rlen = RBUF_CAP;
			memcpy(data, p->rbuf, len);
			p->last_end = off + len;
			return 0;
		}
	}
	p->last_end = off + len;
	err = wsh_dev_read(p->dev, off, data, len);
	if (!err)
		return 0;
	if (io->read_error)
		return io->read_error(io, block, count, data, len, 0,
				      EXT2_ET_SHORT_READ);
	return EXT2_ET_SHORT_READ;
}

static errcode_t wsh_write64(io_channel io, unsigned long long block, int count,
			     const void *data)
{
	struct wsh_chan *p = io->private_data;
	size_t len = span(io, count);
	uint64_t off = block * io->block_size;
	int err;

	if (!p->writable)
		return EXT2_ET_RO_FILSYS;
	read_stale(p, off, len);
	/* The blocks right after the pending run: gather them. */
	if (p->wlen && off == p->woff + p->wlen && p->wlen + len <= WBUF_CAP) {
		drop_covered(p, off, len);
		memcpy(p->wbuf + p->wlen, data, len);
		p->wlen += len;
		return 0;
	}
	/* Inside the pending run: overwrite it there. */
	if (p->wlen && off >= p->woff && off + len <= p->woff + p->wlen) {
		drop_covered(p, off, len);
		memcpy(p->wbuf + (off - p->woff), data, len);
		return 0;
	}
	/* One block elsewhere, touching nothing pending but its own slot. */
	if (len == (size_t)io->block_size &&
	    !(p->wlen && off < p->woff + p->wlen && p->woff < off + len) &&
	    keep_block(p, off, data, len))
		return 0;
	err = wflush(p);
	if (err)
		return write_err(err);
	if (len >= WBUF_CAP || (!p->wbuf && ext2fs_get_mem(WBUF_CAP, &p->wbuf))) {
		err = wsh_dev_write(p->dev, off, data, len);
		return err ? write_err(err) : 0;
	}
	memcpy(p->wbuf, data, len);
	p->woff = off;
	p->wlen = len;
	return 0;
}

static errcode_t wsh_read(io_channel io, unsigned long block, int count,
			  void *data)
{
	return wsh_read64(io, block, count, data);
}

static errcode_t wsh_write(io_channel io, unsigned long block, int count,
			   const void *data)
{
	return wsh_write64(io, block, count, data);
}

static errcode_t wsh_write_byte(io_channel io, unsigned long offset, int count,
				const void *data)
{
	struct wsh_chan *p = io->private_data;

	if (!p->writable)
		return EXT2_ET_RO_FILSYS;
	if (count < 0)
		return EXT2_ET_INVALID_ARGUMENT;
	read_stale(p, offset, count);
	if (wflush(p))
		return EXT2_ET_SHORT_WRITE;
	return wsh_dev_write(p->dev, offset, data, count) ? EXT2_ET_SHORT_WRITE : 0;
}

static errcode_t wsh_flush(io_channel io)
{
	struct wsh_chan *p = io->private_data;
	int err;

	if (!p->writable)
		return 0;
	err = wflush(p);
	if (err)
		return write_err(err);
	return wsh_dev_flush(p->dev) ? EIO : 0;
}

static errcode_t wsh_set_option(io_channel io, const char *opt, const char *arg)
{
	(void)io;
	(void)opt;
	(void)arg;
	return EXT2_ET_INVALID_ARGUMENT;
}

struct struct_io_manager wsh_io_manager_struct = {
	.magic = EXT2_ET_MAGIC_IO_MANAGER,
	.name = "wsh BlockDevice I/O manager",
	.open = wsh_open,
	.close = wsh_close,
	.set_blksize = wsh_set_blksize,
	.read_blk = wsh_read,
	.write_blk = wsh_write,
	.flush = wsh_flush,
	.write_byte = wsh_write_byte,
	.set_option = wsh_set_option,
	.read_blk64 = wsh_read64,
	.write_blk64 = wsh_write64,
};

