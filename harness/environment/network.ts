import { getContainerRuntimeClient, StartedNetwork } from "testcontainers";
import { docker } from "../provision/docker-client.ts";
import { resourceLabels, runId } from "./labels.ts";

/**
 * A bridge network for one environment. Created through the engine API rather than
 * testcontainers' Network so it carries the run's labels (the sweep finds it by them),
 * then wrapped so testcontainers can attach containers to it.
 */
export async function startNetwork(): Promise<StartedNetwork> {
  const client = await getContainerRuntimeClient();
  const name = `buildkit-repro-${runId()}-${Math.random().toString(36).slice(2, 8)}`;
  const network = await docker.createNetwork({ Name: name, Driver: "bridge", CheckDuplicate: true, Labels: resourceLabels() });
  return new StartedNetwork(client, name, network);
}
