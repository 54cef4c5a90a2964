// swift-tools-version:6.1
// Legible: interpretable soft prompts for causal language models, on the CPU.
import PackageDescription

let optimize: [SwiftSetting] = [
    // Hot loops index raw pointers; exclusivity checks there cost more than they protect.
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

/// Kernels are optimized in debug builds too: unoptimized SIMD code runs a hundred times slower, and the
/// tests (debug) drive real vocabularies through softmax and cross-entropy.
let optimizeKernels = optimize + [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "Legible",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "legible", targets: ["legible"]),
        // The readers of every file Legible loads, for the fuzz targets in Fuzz/ (a package of their own).
        .library(name: "LegibleLoaders", targets: ["WeightFiles", "Models", "Tokenizers", "Tasks", "Tuning", "Runs"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .target(
            name: "CSentencePiece", path: "Sources/CSentencePiece",
            cxxSettings: [.unsafeFlags(["-std=c++17"])],
            linkerSettings: [.linkedLibrary("sentencepiece"), .linkedLibrary("sentencepiece_train")]),
        // The bfloat16 kernel (AVX512-BF16, chosen at run time) and its plain C reference.
        .target(name: "CBFloat16", path: "Sources/CBFloat16", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "Kernels", dependencies: ["CBLAS", "CBFloat16"], swiftSettings: optimizeKernels),
        .target(name: "WeightFiles", swiftSettings: optimize),
        .target(name: "Models", dependencies: ["Kernels", "WeightFiles"], swiftSettings: optimize),
        .target(name: "Tokenizers", dependencies: ["CSentencePiece", "WeightFiles"], swiftSettings: optimize),
        .target(name: "Benchmarks", dependencies: ["Kernels", "Models", "WeightFiles", "Tokenizers", "Tuning", "Tasks", "Runs"], swiftSettings: optimize),
        .target(name: "Tuning", dependencies: ["Models", "Tokenizers", "WeightFiles"], swiftSettings: optimize),
        // Tasks and data: datasets in any format, task descriptions and presets, templates, label words.
        .target(name: "Tasks", dependencies: ["Tokenizers", "Tuning"], swiftSettings: optimize),
        // Runs: one tuning job from start (or resume) to its evaluated report, in its run directory.
        .target(name: "Runs", dependencies: ["Kernels", "Models", "Tokenizers", "Tuning", "Tasks", "WeightFiles"], swiftSettings: optimize),
        // Explanations: why a prompt works, token by token, and the guidelines read off it.
        .target(name: "Explanations", dependencies: ["Models", "Tokenizers", "Tuning", "Tasks", "Runs"], swiftSettings: optimize),
        // Sweeps: a plan of runs over a grid, run in resumable shards.
        .target(name: "Sweeps", dependencies: ["Kernels", "Models", "Tokenizers", "Tuning", "Tasks", "Runs"], swiftSettings: optimize),
        // Reports: a sweep's tables, Pareto fronts and SVG plots.
        .target(name: "Reports", dependencies: ["Tuning", "Runs", "Sweeps", "Explanations"], swiftSettings: optimize),
        .executableTarget(
            name: "legible",
            dependencies: [
                "Models", "Tokenizers", "Tuning", "Tasks", "Runs", "Explanations", "Sweeps", "Reports", "Benchmarks", "WeightFiles",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: optimize),
        .target(name: "TestSupport", dependencies: ["Kernels"], path: "Tests/TestSupport"),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "CBFloat16", "TestSupport"]),
        .testTarget(name: "WeightFilesTests", dependencies: ["WeightFiles"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TasksTests", dependencies: ["Tasks"]),
        .testTarget(name: "TuningTests", dependencies: ["Tuning", "Tasks", "Runs", "Explanations", "Sweeps", "Reports", "TestSupport"],
                    exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v5]
)
