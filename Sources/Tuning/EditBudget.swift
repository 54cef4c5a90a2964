// GPO's edit budget (Gradient-inspired Prompt Optimizer): how many prompt positions a candidate may change at
// step t of T, decayed like a cosine learning-rate schedule, so the search explores with large edits early and
// refines one token at a time late: n_t = n_min + (n_max − n_min) · ½ (1 + cos(π t / T)), rounded to the nearest
// integer. MAX:MIN = 1:1 is plain GCG (one position per candidate).
import Foundation

public struct EditBudget: Codable, Sendable, Equatable {
    public var maximum: Int
    public var minimum: Int

    public init(maximum: Int = 1, minimum: Int = 1) {
        self.maximum = maximum; self.minimum = minimum
    }

    /// "MAX:MIN" or a single number for both.
    public init?(parsing text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        switch parts.count {
        case 1: guard let n = parts[0] else { return nil }; self.init(maximum: n, minimum: n)
        case 2: guard let high = parts[0], let low = parts[1] else { return nil }; self.init(maximum: high, minimum: low)
        default: return nil
        }
    }

    public var description: String { "\(maximum):\(minimum)" }

    /// Positions a candidate changes at step t (0-based) of a run of T steps, at most the prompt length.
    public func positions(atStep t: Int, of T: Int, promptLength: Int) -> Int {
        let progress = T > 0 ? Double(min(max(t, 0), T)) / Double(T) : 1
        let value = Double(minimum) + Double(maximum - minimum) * 0.5 * (1 + cos(Double.pi * progress))
        return max(1, min(promptLength, Int(value.rounded())))
    }

    func validate() -> String? {
        minimum >= 1 && maximum >= minimum ? nil : "the edit budget MAX:MIN needs 1 ≤ MIN ≤ MAX (given \(description))"
    }
}
