/*
 * shim.h: what the parts of the libext2fs shim (shim.c, dir.c, data.c) share:
 * inode read/write helpers, timestamp encoding and cross-file declarations.
 * Internal to fsimage; Rust sees only the `shim_*` functions (src/ffi.rs).
 */
#ifndef FSIMAGE_SHIM_H
#define FSIMAGE_SHIM_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>
#include <ext2fs/ext2_err.h>

/* The workaround for libext2fs' punch at the disk's last block (punch.c). */
extern errcode_t shim_unmap_last_fs_block(ext2_filsys fs, ext2_ino_t ino,
					  struct ext2_inode_large *in,
					  blk64_t start);

/* Defined in one part, used by another. */
long shim_load_bitmaps(ext2_filsys fs);

/*
 * Returns from the calling shim function with the error if the bitmaps cannot
 * be loaded: every call that may allocate or free blocks or inodes starts so.
 */
#define NEED_BITMAPS(fs)                                                      \
	do {                                                                  \
		errcode_t nb_rc_ = shim_load_bitmaps(fs);                     \
		if (nb_rc_)                                                   \
			return nb_rc_;                                        \
	} while (0)

long shim_set_times(ext2_filsys fs, uint32_t ino, int which, int64_t a,
		    uint32_t an, int64_t m, uint32_t mn, int64_t c, uint32_t cn);
long shim_free_inode(ext2_filsys fs, uint32_t ino, uint32_t now);
long shim_link(ext2_filsys fs, uint32_t dir, const char *name, uint32_t ino,
	       int ftype);
long shim_read(ext2_filsys fs, uint32_t ino, uint64_t off, void *buf,
	       uint32_t len, uint32_t *got);


static inline void set_time(uint32_t *lo, uint32_t *extra, int has_extra, int64_t sec,
		     uint32_t nsec)
{
	*lo = (uint32_t)sec;
	if (has_extra)
		*extra = ((uint32_t)((sec - (int32_t)*lo) >> 32) & EXT4_EPOCH_MASK) |
			 (nsec << EXT4_EPOCH_BITS);
}

#define HAS_EXTRA(fs, inode, field)                                           \
	(EXT2_INODE_SIZE((fs)->super) > EXT2_GOOD_OLD_INODE_SIZE &&           \
	 inode_includes(EXT2_GOOD_OLD_INODE_SIZE + (inode).i_extra_isize,    \
			field))

static inline errcode_t read_large(ext2_filsys fs, ext2_ino_t ino,
			    struct ext2_inode_large *inode)
{
	memset(inode, 0, sizeof(*inode));
	return ext2fs_read_inode_full(fs, ino, (struct ext2_inode *)inode,
				      sizeof(*inode));
}

static inline errcode_t write_large(ext2_filsys fs, ext2_ino_t ino,
			     struct ext2_inode_large *inode)
{
	return ext2fs_write_inode_full(fs, ino, (struct ext2_inode *)inode,
				       sizeof(*inode));
}

#define T_ATIME 1
#define T_MTIME 2
#define T_CTIME 4
#define T_CRTIME 8

static inline void stamp(ext2_filsys fs, struct ext2_inode_large *in, int which,
		  int64_t a, uint32_t an, int64_t m, uint32_t mn, int64_t c,
		  uint32_t cn)
{
	if (which & T_ATIME)
		set_time(&in->i_atime, &in->i_atime_extra,
			 HAS_EXTRA(fs, *in, i_atime_extra), a, an);
	if (which & T_MTIME)
		set_time(&in->i_mtime, &in->i_mtime_extra,
			 HAS_EXTRA(fs, *in, i_mtime_extra), m, mn);
	if (which & T_CTIME)
		set_time(&in->i_ctime, &in->i_ctime_extra,
			 HAS_EXTRA(fs, *in, i_ctime_extra), c, cn);
	if (which & T_CRTIME)
		set_time(&in->i_crtime, &in->i_crtime_extra,
			 HAS_EXTRA(fs, *in, i_crtime_extra), c, cn);
}

#endif
