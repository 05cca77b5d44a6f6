// swift-tools-version: 6.1
// Traverse: NAT traversal for libp2p in Swift.
// One package: the sans-IO core (`TraverseCore`), the libuv driver (`TraverseUV`),
// and the `traverse` executable. Fuzz targets live in `Fuzz/` (their own package, built
// with `-sanitize=fuzzer`); benchmarks in `Benchmarks/`.
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Traverse",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "TraverseCore", targets: ["TraverseCore"]),
        .library(name: "TraverseUV", targets: ["TraverseUV"]),
        .executable(name: "traverse", targets: ["traverse"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", exact: "1.6.0"),
    ],
    targets: [
        // System libraries (Debian packages; `.ci/run` installs them).
        .systemLibrary(
            name: "CSodium", path: "Core/CSodium", pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(
            name: "CSecp256k1", path: "Core/CSecp256k1", pkgConfig: "libsecp256k1",
            providers: [.apt(["libsecp256k1-dev"])]),
        .systemLibrary(
            name: "CUV", path: "Drivers/CUV", pkgConfig: "libuv",
            providers: [.apt(["libuv1-dev"])]),

        // The sans-IO core: pure values, no I/O, no clocks, no global randomness.
        .target(
            name: "TraverseCore",
            dependencies: [
                "CSodium", "CSecp256k1",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            path: "Core",
            exclude: ["CSodium", "CSecp256k1", "Protobuf/Definitions"],
            swiftSettings: strictSettings),

        // The libuv driver: real files, sockets, timers and DNS.
        .target(
            name: "TraverseUV",
            dependencies: ["TraverseCore", "CUV"],
            path: "Drivers/UV",
            swiftSettings: strictSettings),

        // The `traverse` executable.
        .executableTarget(
            name: "traverse",
            dependencies: [
                "TraverseCore", "TraverseUV",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Drivers/CLI",
            swiftSettings: strictSettings),

        // Fuzz targets (libFuzzer with `Fuzz/run.sh`; replayed as tests on their corpora).
        .target(
            name: "TraverseFuzzTargets",
            dependencies: ["TraverseCore"],
            path: "Fuzz/Targets",
            swiftSettings: strictSettings),
        .systemLibrary(name: "CLibFuzzer", path: "Fuzz/CLibFuzzer"),
        .executableTarget(
            name: "traverse-fuzz",
            dependencies: ["TraverseFuzzTargets", "CLibFuzzer"],
            path: "Fuzz/Entry",
            swiftSettings: strictSettings),

        // Benchmarks: `swift build -c release --product traverse` (the node and relay
        // benchmarks spawn it), then
        // `swift run -c release traverse-bench [--json] [--suite machines|nodes|relay|all]`.
        // CEpoll: <sys/epoll.h> for the relay suite's many-swarm client driver (Linux).
        .systemLibrary(name: "CEpoll", path: "Benchmarks/CEpoll"),
        .executableTarget(
            name: "traverse-bench",
            dependencies: ["TraverseCore", "TraverseUV", "CSodium", "CEpoll"],
            path: "Benchmarks",
            exclude: ["CEpoll"],
            swiftSettings: strictSettings),

        .testTarget(
            name: "TraverseCoreTests",
            dependencies: ["TraverseCore", "TraverseFuzzTargets"],
            path: "Tests/TraverseCoreTests",
            swiftSettings: strictSettings),
        .testTarget(
            name: "TraverseUVTests",
            dependencies: ["TraverseUV", "TraverseCore"],
            path: "Tests/TraverseUVTests",
            swiftSettings: strictSettings),
    ],
    swiftLanguageModes: [.v6]
)
