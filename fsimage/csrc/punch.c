/*
 * punch.c: a workaround for a libext2fs bug that corrupts a file system which
 * filled up (see below); shim.c calls it before every ext2fs_punch.
 */
#include <stdint.h>

#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>
#include <ext2fs/ext2_err.h>

/*
 * libext2fs before 1.47.4 (upstream commit 509da989, "fix off-by-one bug in
 * punch_extent_blocks") refuses to free a run of blocks that ends at the
 * file system's last block: ext2fs_punch fails with "Illegal block number"
 * after it has already dropped the extent, so the blocks leak and the caller
 * never finishes the delete. A file that fills the disk always ends there.
 * This unmaps and frees that one block by hand (shortening the extent at its
 * end, which never needs a new tree block), so ext2fs_punch never meets it.
 * Only blocks at logical >= `start` are considered, as ext2fs_punch would.
 */
errcode_t shim_unmap_last_fs_block(ext2_filsys fs, ext2_ino_t ino,
				   struct ext2_inode_large *in, blk64_t start)
{
	blk64_t last = ext2fs_blocks_count(fs->super) - 1;
	ext2_extent_handle_t h;
	struct ext2fs_extent ex;
	int op = EXT2_EXTENT_ROOT, found = 0;
	errcode_t rc;

	if (!(in->i_flags & EXT4_EXTENTS_FL) || EXT2FS_CLUSTER_RATIO(fs) != 1 ||
	    !ext2fs_inode_has_valid_blocks2(fs, (struct ext2_inode *)in))
		return 0;
	rc = ext2fs_extent_open2(fs, ino, (struct ext2_inode *)in, &h);
	if (rc)
		return rc;
	/* EXT2_EXTENT_NEXT walks the whole tree; leaves are visited once. */
	while (!(rc = ext2fs_extent_get(h, op, &ex))) {
		op = EXT2_EXTENT_NEXT;
		if (!(ex.e_flags & EXT2_EXTENT_FLAGS_LEAF) || !ex.e_len)
			continue;
		if (ex.e_pblk + ex.e_len - 1 == last &&
		    ex.e_lblk + ex.e_len - 1 >= start) {
			found = 1;
			break;
		}
	}
	if (!found) {
		ext2fs_extent_free(h);
		/* The end of the walk is not an error. */
		return (rc == EXT2_ET_EXTENT_NO_NEXT || rc == EXT2_ET_NO_CURRENT_NODE ||
			rc == EXT2_ET_EXTENT_NO_DOWN) ? 0 : rc;
	}
	if (ex.e_len == 1) {
		rc = ext2fs_extent_delete(h, 0);
		if (!rc) {
			rc = ext2fs_extent_fix_parents(h);
			if (rc == EXT2_ET_NO_CURRENT_NODE)
				rc = 0;
		}
	} else {
		ex.e_len--;
		rc = ext2fs_extent_replace(h, 0, &ex);
		if (!rc)
			rc = ext2fs_extent_fix_parents(h);
	}
	ext2fs_extent_free(h);
	if (rc)
		return rc;
	ext2fs_block_alloc_stats2(fs, last, -1);
	rc = ext2fs_iblk_sub_blocks(fs, (struct ext2_inode *)in, 1);
	if (rc)
		return rc;
	return ext2fs_write_inode_full(fs, ino, (struct ext2_inode *)in,
				       sizeof(*in));
}
