// The Pareto front of points with two objectives: the points no other point beats in one objective without
// losing in the other. Used for accuracy vs log-perplexity and accuracy vs KL in sweep reports.
import Runs
import Sweeps

public enum ParetoGoal: Sendable {
    case maximize, minimize

    /// Whether a is at least as good as b.
    func atLeast(_ a: Double, _ b: Double) -> Bool { self == .maximize ? a >= b : a <= b }
    /// The worse of two values.
    func worse(_ a: Double, _ b: Double) -> Double { self == .maximize ? min(a, b) : max(a, b) }
}

public enum ParetoFront {
    /// Indices of the non-dominated points, ordered by x ascending (then y ascending). A point is dominated when
    /// another is at least as good in both objectives and strictly better in one, so of several equal points
    /// all are on the front, and of points tied in one objective only the best in the other is. Points with a
    /// non-finite coordinate are never on the front. O(n²): sweeps have hundreds of points, not millions.
    public static func indices(of points: [(x: Double, y: Double)], x: ParetoGoal, y: ParetoGoal) -> [Int] {
        let finite = points.indices.filter { points[$0].x.isFinite && points[$0].y.isFinite }
        func dominates(_ a: Int, _ b: Int) -> Bool {
            let (p, q) = (points[a], points[b])
            return x.atLeast(p.x, q.x) && y.atLeast(p.y, q.y) && (p.x != q.x || p.y != q.y)
        }
        return finite.filter { i in !finite.contains { dominates($0, i) } }
            .sorted { (points[$0].x, points[$0].y, $0) < (points[$1].x, points[$1].y, $1) }
    }

    /// The front as a staircase for plotting: from each front point to the next through the corner that is
    /// worse in both objectives, so the line bounds the region the front dominates.
    public static func staircase(_ front: [(x: Double, y: Double)], x: ParetoGoal, y: ParetoGoal) -> [(x: Double, y: Double)] {
        guard var previous = front.first else { return [] }
        var line = [previous]
        for point in front.dropFirst() {
            line.append((x.worse(previous.x, point.x), y.worse(previous.y, point.y)))
            line.append(point)
            previous = point
        }
        return line
    }
}
