// swift-tools-version:6.1
// Courier for Swift: one package, the multi-call `courier` program and lean per-message tools.
// See ../shared/DESIGN.md for the module map.
import PackageDescription

/// Lean tools are fully static executables in release builds (Swift runtime and glibc linked
/// in), so that they start as fast as Courier's C programs: measured with callgrind, start-up
/// fell from 2.4 M instructions with `-static-stdlib` (almost all of it the dynamic linker
/// resolving libstdc++/libc symbols) to 0.36 M. glibc's iconv still loads its gconv modules at
/// run time (the linker warns about dlopen): the binaries must run with the glibc they were
/// built against, as any package of them does.
///
/// They are linked with lld and a symbol ordering file (Sources/LeanStart/startup-order.txt, made
/// by Scripts/lean-startup-order.py from the code and data the tools touch): what runs before and
/// around `main` is packed into a few pages instead of being spread over 6 MB of text, so a run
/// takes fewer page faults (makemime: 87 to about 50).
let leanLinker: [LinkerSetting] = [
    .unsafeFlags(["-static-executable", "-use-ld=lld",
                  "-Xlinker", "--symbol-ordering-file=\(Context.packageDirectory)/Sources/LeanStart/startup-order.txt",
                  "-Xlinker", "--no-warn-symbol-ordering"], .when(configuration: .release)),
]

/// The lean modules and tools are compiled so that generic type metadata is reached through
/// direct accessor calls, not by demangling type names at run time: the first demangle pages in
/// the runtime's demangler, a measurable part of a tool's start-up.
///
/// Each function gets its own section (`-function-sections`), so that the symbol ordering file
/// (leanLinker) moves single functions, not whole source files, and unused ones are dropped.
let leanSwift: [SwiftSetting] = [
    .unsafeFlags(["-Xfrontend", "-disable-concrete-type-metadata-mangled-name-accessors",
                  "-Xfrontend", "-function-sections"],
                 .when(configuration: .release)),
]

let package = Package(
    name: "courier-swift",
    products: [
        .executable(name: "courier", targets: ["courier"]),
        .executable(name: "reformail", targets: ["reformail"]),
        .executable(name: "reformime", targets: ["reformime"]),
        .executable(name: "makemime", targets: ["makemime"]),
        .executable(name: "maildirmake", targets: ["maildirmake"]),
        .executable(name: "deliverquota", targets: ["deliverquota"]),
        .executable(name: "lockmail", targets: ["lockmail"]),
        .executable(name: "mailbot", targets: ["mailbot"]),
        .executable(name: "maildrop", targets: ["maildrop"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // MARK: lean libraries (no Foundation, no NIO): usable from the per-message tools
        .target(name: "MailCore", swiftSettings: leanSwift),
        .target(name: "ToolSupport", dependencies: ["LeanStart"], swiftSettings: leanSwift),
        // The runtime's argv entry points without its /proc/self/maps scan (lean tool start-up).
        .target(name: "LeanStart"),
        .target(name: "MaildirCore", dependencies: ["ToolSupport", "CNonBlockingFile"], swiftSettings: leanSwift),
        .target(name: "MailTools", dependencies: ["MailCore", "MaildirCore", "ToolSupport"], swiftSettings: leanSwift),
        .target(name: "MailConfig"),

        // MARK: the daemon
        .target(name: "CourierDaemon", dependencies: [
            "MailConfig",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        ]),
        // One listener runner (bind, announce, ready, shutdown) and TLS context builder for every server.
        .target(name: "ListenerSupport", dependencies: [
            "CourierDaemon", "MailConfig",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "X509", package: "swift-certificates"),
        ]),
        // crypt_r(3) through libxcrypt (swift-stack.md "Auth").
        .target(name: "CCrypt", linkerSettings: [.linkedLibrary("crypt")]),
        // Accounts and passwords, lean part (no Foundation, no NIO): hashes, userdb files, SASL.
        .target(name: "MailAuthCore", dependencies: ["MailConfig", "CCrypt"]),
        // Accounts and passwords, server part: module chain, PostgreSQL, throttling, admin tools.
        .target(name: "MailAuth", dependencies: [
            "MailAuthCore", "MailConfig",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // `courier init`: writes a config root (Courier's files, demo user, self-signed TLS).
        .target(name: "SiteSetup", dependencies: [
            "MailConfig", "CCrypt",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "X509", package: "swift-certificates"),
        ]),

        // MARK: mail transfer (issue 5)
        .target(name: "SMTP", dependencies: [
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .target(name: "MailQueue", dependencies: [
            "MailConfig", "MailCore",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .target(name: "Delivery", dependencies: [
            "MailQueue", "MaildirCore", "MailConfig", "MailCore",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "SMTPServer", dependencies: [
            "SMTP", "MailQueue", "Delivery", "MailConfig", "MailCore", "CourierDaemon", "ListenerSupport", "MailAuth", "MailAuthCore",
            "DNS", "SPF",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // The `metrics` listener: Prometheus text format over a small NIO HTTP/1 responder.
        .target(name: "MetricsServer", dependencies: [
            "CourierDaemon", "ListenerSupport", "MailConfig",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        // MARK: outbound mail (issue 8)
        // DNS: message codec (pure) and an async stub resolver over SwiftNIO (MX, A, AAAA, TXT, PTR).
        // RFC 7208 SPF evaluation on the DNS resolver (BOFHSPFHELO, BOFHSPFMAILFROM).
        .target(name: "SPF", dependencies: ["DNS"]),
        .target(name: "DNS", dependencies: [
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),

        // SMTP client session: pure state machine (replies in, commands out), 8BITMIME downgrade.
        // MailAuthCore for the CRAM-MD5 HMAC (lean, no Foundation).
        .target(name: "SMTPClient", dependencies: ["MailCore", "MailAuthCore"]),

        // The esmtp output module: routes, MX, the SMTP client over NIO (STARTTLS), queue transport.
        .target(name: "ESMTPTransport", dependencies: [
            "SMTPClient", "DNS", "MailQueue", "MailConfig", "MailCore",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),

        // MARK: mail store for the access servers (issue 3)
        .target(name: "Maildir", dependencies: [
            "MaildirCore", "MailCore",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),

        // MARK: mail access (issue 6): IMAP
        .target(name: "IMAP", dependencies: [
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        // Opens and reads that never wait for the disk (openat2 RESOLVE_CACHED, RWF_NOWAIT), behind
        // MaildirCore's CachedFileRead: IMAP answers a cached body FETCH, POP3 a cached RETR/TOP,
        // on the event loop.
        .target(name: "CNonBlockingFile"),

        .target(name: "IMAPServer", dependencies: [
            "IMAP", "Maildir", "MaildirCore", "MailCore", "MailConfig", "MailAuth", "MailAuthCore", "CourierDaemon", "ListenerSupport",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        // MARK: POP3 (issue 7)
        .target(name: "POP3", dependencies: ["MailAuthCore", "MaildirCore", "MailCore"]),
        .target(name: "POP3Server", dependencies: [
            "POP3", "MailAuth", "MailAuthCore", "MaildirCore", "MailConfig", "CourierDaemon", "ListenerSupport",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        // MARK: maildrop (issue 9): the filter language, lean (no Foundation)
        .target(name: "Maildrop", dependencies: ["MailTools", "MailCore", "MaildirCore", "ToolSupport", "MailAuthCore", "MailConfig"]),
        .executableTarget(name: "maildrop", dependencies: ["Maildrop"], swiftSettings: leanSwift, linkerSettings: leanLinker),
        .executableTarget(name: "FuzzMaildrop", dependencies: ["FuzzSupport", "Maildrop"], path: "Fuzz/FuzzMaildrop"),
        .executableTarget(name: "FuzzSimplePattern", dependencies: ["FuzzSupport", "Maildrop"], path: "Fuzz/FuzzSimplePattern"),
        .testTarget(name: "MaildropTests", dependencies: ["Maildrop"]),

        // MARK: executables
        .executableTarget(name: "courier", dependencies: [
            "MailCore", "ToolSupport", "MailTools", "Maildrop", "MailConfig", "CourierDaemon", "SiteSetup",
            "SMTPServer", "IMAPServer", "MailQueue", "Delivery", "MailAuth", "MailAuthCore", "MetricsServer", "POP3Server", "DNS", "SMTP",
            "ESMTPTransport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "reformail", dependencies: ["MailTools"], swiftSettings: leanSwift, linkerSettings: leanLinker),
        .executableTarget(name: "reformime", dependencies: ["MailTools", "ToolSupport"], swiftSettings: leanSwift, linkerSettings: leanLinker),
        .executableTarget(name: "makemime", dependencies: ["MailTools", "ToolSupport"], swiftSettings: leanSwift, linkerSettings: leanLinker),
        .executableTarget(name: "maildirmake", dependencies: ["MailTools"], swiftSettings: leanSwift, linkerSettings: leanLinker),
        .executableTarget(name: "deliverquota", dependencies: ["MailTools"], swiftSettings: leanSwift, linkerSettings: leanLinker),
        .executableTarget(name: "lockmail", dependencies: ["MailTools"], swiftSettings: leanSwift, linkerSettings: leanLinker),
        // issue 9: mailbot (code in Sources/MailTools/Mailbot)
        .executableTarget(name: "mailbot", dependencies: ["MailTools", "ToolSupport"], swiftSettings: leanSwift, linkerSettings: leanLinker),

        // MARK: fuzzing (Scripts/fuzz Config N)
        .executableTarget(name: "FuzzConfig", dependencies: ["FuzzSupport", "MailConfig"], path: "Fuzz/FuzzConfig"),
        .target(name: "FuzzSupport", path: "Fuzz/FuzzSupport"),
        .executableTarget(name: "FuzzHeaders", dependencies: ["FuzzSupport", "MailCore"], path: "Fuzz/FuzzHeaders"),
        .executableTarget(name: "FuzzAddress", dependencies: ["FuzzSupport", "MailCore"], path: "Fuzz/FuzzAddress"),
        .executableTarget(name: "FuzzDate", dependencies: ["FuzzSupport", "MailCore"], path: "Fuzz/FuzzDate"),
        .executableTarget(name: "FuzzMakemimeArgs", dependencies: ["FuzzSupport", "MailTools"], path: "Fuzz/FuzzMakemimeArgs"),
        .executableTarget(name: "FuzzReformail", dependencies: ["FuzzSupport", "MailTools"], path: "Fuzz/FuzzReformail"),
        .executableTarget(name: "FuzzSMTP", dependencies: ["FuzzSupport", "SMTP"], path: "Fuzz/FuzzSMTP"),
        .executableTarget(name: "FuzzIMAP", dependencies: ["FuzzSupport", "IMAP"], path: "Fuzz/FuzzIMAP"),
        .executableTarget(name: "FuzzMIME", dependencies: ["FuzzSupport", "MailCore"], path: "Fuzz/FuzzMIME"),
        .executableTarget(name: "FuzzPOP3", dependencies: ["FuzzSupport", "POP3"], path: "Fuzz/FuzzPOP3"),
        .executableTarget(name: "FuzzRFC2047", dependencies: ["FuzzSupport", "MailCore"], path: "Fuzz/FuzzRFC2047"),
        .executableTarget(name: "FuzzDNS", dependencies: ["FuzzSupport", "DNS"], path: "Fuzz/FuzzDNS"),
        .executableTarget(name: "FuzzSPF", dependencies: ["FuzzSupport", "SPF"], path: "Fuzz/FuzzSPF"),
        .executableTarget(name: "FuzzAuth", dependencies: ["FuzzSupport", "MailAuthCore", "MailConfig"], path: "Fuzz/FuzzAuth"),
        .executableTarget(name: "FuzzSMTPClient", dependencies: ["FuzzSupport", "SMTPClient"], path: "Fuzz/FuzzSMTPClient"),

        // MARK: tests
        .testTarget(name: "MailCoreTests", dependencies: ["MailCore"]),
        .testTarget(name: "MailToolsTests", dependencies: ["MailTools", "MailCore", "ToolSupport", "LeanStart"]),
        .testTarget(name: "MaildirCoreTests", dependencies: ["MaildirCore"]),
        .testTarget(name: "MaildirTests", dependencies: ["Maildir", "MaildirCore"]),
        .testTarget(name: "SMTPTests", dependencies: ["SMTP"]),
        .testTarget(name: "IMAPTests", dependencies: ["IMAP"]),
        .testTarget(name: "IMAPServerTests", dependencies: ["IMAPServer", "IMAP", "MaildirCore"]),
        .testTarget(name: "SPFTests", dependencies: ["SPF"]),
        .testTarget(name: "SMTPServerTests", dependencies: ["SMTPServer", "SMTP", "MailConfig", "Delivery", "MailAuth", "MailAuthCore", "DNS"]),
        .testTarget(name: "POP3Tests", dependencies: ["POP3", "MailAuthCore"]),
        .testTarget(name: "MailQueueTests", dependencies: ["MailQueue"]),
        .testTarget(name: "DeliveryTests", dependencies: ["Delivery"]),
        .testTarget(name: "MailConfigTests", dependencies: ["MailConfig"]),
        .testTarget(name: "MailAuthTests", dependencies: ["MailAuth", "MailAuthCore", "MailConfig"]),
        .testTarget(name: "DNSTests", dependencies: ["DNS"]),
        .testTarget(name: "SMTPClientTests", dependencies: ["SMTPClient", "MailCore"]),
        .testTarget(name: "ESMTPTransportTests", dependencies: ["ESMTPTransport", "MailQueue"]),
        .testTarget(name: "CourierDaemonTests", dependencies: ["CourierDaemon", "MailConfig", "SiteSetup"]),
    ],
    swiftLanguageModes: [.v6]
)
