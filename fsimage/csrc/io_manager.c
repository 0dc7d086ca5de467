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

struct wsh_chan {
	void *dev;
	int writable;
};

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
	if (--io->refcount > 0)
		return 0;
	ext2fs_free_mem(&io->private_data);
	if (io->name)
		ext2fs_free_mem(&io->name);
	ext2fs_free_mem(&io);
	return 0;
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
	int err = wsh_dev_read(p->dev, block * io->block_size, data, len);

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
	int err;

	if (!p->writable)
		return EXT2_ET_RO_FILSYS;
	err = wsh_dev_write(p->dev, block * io->block_size, data, len);
	if (!err)
		return 0;
	return err == ENOSPC ? (errcode_t)ENOSPC : EXT2_ET_SHORT_WRITE;
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
	return wsh_dev_write(p->dev, offset, data, count) ? EXT2_ET_SHORT_WRITE : 0;
}

static errcode_t wsh_flush(io_channel io)
{
	struct wsh_chan *p = io->private_data;

	if (!p->writable)
		return 0;
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

