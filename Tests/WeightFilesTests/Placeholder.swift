import Testing
@testable import WeightFiles
