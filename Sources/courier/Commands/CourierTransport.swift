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
        let router = local.router
        // The router reads userdb data and stats `.courier` files: off the cooperative pool.
        let remoteFlags = (try? await threadPool.runIfActive {
            requests.map { router.resolve($0.recipient.address) == .remote }
        }) ?? requests.map { _ in false }
        var outcomes = [DeliveryOutcome](repeating: .deferred("not attempted"), count: requests.count)
        let remotePositions = requests.indices.filter { remoteFlags[$0] }
        let localPositions = requests.indices.filter { !remoteFlags[$0] }
        let localOutcomes = await local.deliver(batch: localPositions.map { requests[$0] }, threadPool: threadPool)
        for (position, outcome) in zip(localPositions, localOutcomes) { outcomes[position] = outcome }
        if !remotePositions.isEmpty {
            let remoteOutcomes = await remote.deliver(remotePositions.map { requests[$0] })
            for (position, outcome) in zip(remotePositions, remoteOutcomes) { outcomes[position] = outcome }
        }
        return outcomes
    }
}
