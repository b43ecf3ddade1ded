// Package snapshot stores task state snapshots in durable storage and restores
// them: the upload and download half of the barrier checkpoints of DESIGN.md
// decision 5. It never opens RocksDB; it moves the files of a RocksDB checkpoint
// directory.
//
// # How data flows
//
//	checkpoint n reaches task T ─▶ engine flushes, takes a RocksDB checkpoint (hard links) into dir
//	  ─▶ Uploader.Upload(T, n, dir, changelog offsets, source offsets)      (or Uploader.Go, in the background)
//	       hash files (SHA-256; SSTs seen by T's last upload are not re-read: same inode, size, mtime)
//	       SST *.sst ─▶ <app>/sst/<sha256>.sst        put only if the store does not have it yet
//	       others    ─▶ <app>/tasks/<T>/<n>/<name>    MANIFEST-*, OPTIONS-*, CURRENT: small, per checkpoint
//	       manifest  ─▶ <app>/tasks/<T>/<n>/manifest.json, LAST: its presence makes the snapshot complete
//	  ─▶ engine acks checkpoint n with the manifest's key (the ref)
//
//	recovery: ListComplete(T) newest first ─▶ Download(ref, dir): manifest + every file, sizes and SHA-256
//	  checked (*CorruptError names the bad file) ─▶ engine opens RocksDB on dir, replays the changelog
//	  from Manifest.ChangelogOffsets and resumes input at Manifest.SourceOffsets
//
//	retention: GC(keep) deletes checkpoints not kept and SSTs no remaining manifest references,
//	  nothing younger than a grace period (uploads in flight)
//
// SST files are immutable and keep their names across checkpoints of one RocksDB
// instance, so consecutive checkpoints share most of them; storing them by
// content means each is uploaded once, however many snapshots (or replicas)
// reference it.
//
// # Stores
//
// A Store is a flat blob store: Open("file:///abs/path") is a local directory
// (atomic writes: temporary file, fsync, rename, fsync of the directory);
// Open("s3://bucket/prefix") is S3 or an S3-compatible server (Options.Endpoint,
// Options.PathStyle), with credentials from the AWS SDK's standard chain. Objects
// are written whole or not at all in both; a snapshot is complete exactly when its
// manifest exists.
package snapshot
