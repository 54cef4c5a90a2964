// One process at a time in a run folder: `lock` holds the owner's pid and host, created exclusively. A lock whose
// process on this host is gone (killed, crashed) is stale and taken over; any other lock stops the second process
// before it touches a file, so a fresh run and a --resume of the same folder cannot interleave their logs.
import Foundation

public final class RunLock {
    public let url: URL
    private var held = true

    private init(url: URL) { self.url = url }

    /// Takes the lock of `folder` (creating the folder), or says who holds it.
    public static func acquire(_ folder: URL) throws -> RunLock {
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw RunDirectoryError.unwritable(folder.path, reason: RunDirectory.reason(error))
        }
        let url = folder.appendingPathComponent("lock")
        let owner = "\(getpid()) \(ProcessInfo.processInfo.hostName)\n"
        for _ in 0..<2 {
            let fd = open(url.path, O_CREAT | O_EXCL | O_WRONLY, 0o644)
            if fd >= 0 {
                _ = owner.withCString { write(fd, $0, strlen($0)) }
                close(fd)
                return RunLock(url: url)
            }
            guard errno == EEXIST else { throw RunDirectoryError.unwritable(folder.path, reason: String(cString: strerror(errno))) }
            let holder = (try? String(contentsOf: url, encoding: .utf8))?.split(separator: " ", maxSplits: 1) ?? []
            let pid = holder.first.flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            let host = holder.count > 1 ? holder[1].trimmingCharacters(in: .whitespacesAndNewlines) : nil
            if let pid, host == ProcessInfo.processInfo.hostName, kill(pid, 0) != 0, errno == ESRCH {
                try? FileManager.default.removeItem(at: url)  // its process is gone: stale
                continue
            }
            throw RunDirectoryError.busy(folder.path, owner: holder.joined(separator: " ").trimmingCharacters(in: .whitespacesAndNewlines))
        }
        throw RunDirectoryError.busy(folder.path, owner: "another process")
    }

    public func release() {
        guard held else { return }
        held = false
        try? FileManager.default.removeItem(at: url)
    }

    deinit { release() }
}
