// Which runs of a sweep one process takes: shard i of n holds the runs whose index % n == i (indices from 0),
// so n processes, on one machine or many, share a sweep without talking to each other.
import Foundation
import Runs
import Tasks

public struct SweepShard: Equatable, Sendable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    /// Every run.
    public static let all = SweepShard(uncheckedIndex: 0, count: 1)

    public init(index: Int, count: Int) throws {
        guard count >= 1, (0..<count).contains(index) else { throw SweepError.invalidShard("\(index)/\(count)") }
        self.init(uncheckedIndex: index, count: count)
    }

    private init(uncheckedIndex index: Int, count: Int) { self.index = index; self.count = count }

    /// Parses "i/n", e.g. "0/4".
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0].trimmingCharacters(in: .whitespaces)),
              let n = Int(parts[1].trimmingCharacters(in: .whitespaces)), n >= 1, (0..<n).contains(i)
        else { throw SweepError.invalidShard(text) }
        self.init(uncheckedIndex: i, count: n)
    }

    public func contains(_ runIndex: Int) -> Bool { runIndex % count == index }

    public var description: String { "\(index)/\(count)" }
}
