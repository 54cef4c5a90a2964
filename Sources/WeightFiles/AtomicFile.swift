// Whole-file writes that a kill cannot leave half done: the bytes go to `<name>.partial-<pid>` beside the
// target, are flushed, and the temporary is renamed over it. A kill mid-write leaves only a file with that
// suffix, which the owner of the folder (a run directory) removes the next time it opens it.
import Foundation

public enum AtomicFile {
    public static let partialMarker = ".partial-"

    public static func write(_ data: Data, to url: URL) throws {
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(url.lastPathComponent + partialMarker + String(getpid()))
        let fd = open(temporary.path, O_CREAT | O_TRUNC | O_WRONLY, 0o644)
        guard fd >= 0 else { throw CocoaError.error(.fileWriteUnknown, path: temporary.path, posix: errno) }
        var failure: Int32 = 0
        data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 { if errno == EINTR { continue }; failure = errno; return }
                offset += written
            }
        }
        if failure == 0 && fsync(fd) != 0 { failure = errno }
        close(fd)
        if failure == 0 && rename(temporary.path, url.path) != 0 { failure = errno }
        if failure != 0 {
            unlink(temporary.path)
            throw CocoaError.error(.fileWriteUnknown, path: url.path, posix: failure)
        }
    }

    /// Removes temporaries a killed writer left in `folder`.
    public static func removeLeftovers(in folder: URL) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        for name in names where name.contains(partialMarker) {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))
        }
    }
}

extension CocoaError {
    /// A Cocoa error carrying the POSIX reason, which `RunDirectory.reason` and users read as one phrase.
    static func error(_ code: CocoaError.Code, path: String, posix: Int32) -> CocoaError {
        CocoaError(code, userInfo: [NSFilePathErrorKey: path,
                                    NSUnderlyingErrorKey: NSError(domain: NSPOSIXErrorDomain, code: Int(posix))])
    }
}
