import Delivery
import ESMTPTransport
import MailQueue
import NIOPosix

/// The daemon's transport: addresses that are ours go to the local transport, the rest to
/// esmtp (spec/mta.md §5.3.1). Who may send to remote addresses was decided when the mail was
/// accepted (relaying needs authentication or RELAYCLIENT).
struct CourierTransport: DeliveryAgent {
    let local: LocalTransport
    let remote: ESMTPTransport

    func deliver(_ request: DeliveryRequest) -> DeliveryOutcome {
        local.deliver(request)
    }

    func deliver(batch requests: [DeliveryRequest], threadPool: NIOThreadPool) async -> [DeliveryOutcome] {
        let local = self.local
        // One trip to the delivery threads: each recipient is routed there (the router reads
        // userdb data and stats `.courier` files: off the cooperative pool) and the local ones
        // delivered at once; nil marks a remote one, left for esmtp.
        let localOutcomes: [DeliveryOutcome?] = (try? await threadPool.runIfActive {
            requests.map { local.router.resolve($0.recipient.address) == .remote ? nil : local.deliver($0) }
        }) ?? requests.map { _ in .deferred("delivery thread pool is not running") }
        var outcomes = localOutcomes.map { $0 ?? .deferred("not attempted") }
        let remotePositions = requests.indices.filter { localOutcomes[$0] == nil }
        if !remotePositions.isEmpty {
            let remoteOutcomes = await remote.deliver(remotePositions.map { requests[$0] })
            for (position, outcome) in zip(remotePositions, remoteOutcomes) { outcomes[position] = outcome }
        }
        return outcomes
    }
}
