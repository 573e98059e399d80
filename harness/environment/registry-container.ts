import { type StartedNetwork, type StartedTestContainer, Wait } from "testcontainers";
import { HarnessError } from "../errors.ts";
import { RegistryClient } from "../oci/registry-client.ts";
import { BASE_IMAGES, type PushedBaseImage, pushBaseImages } from "../provision/base-images.ts";
import type { ProvisionedImage } from "../provision/image-source.ts";
import { REGISTRY_CONFIG } from "../provision/registry-image.ts";
import { withTimeout } from "../timeouts.ts";
import { containerFate } from "./container-fate.ts";
import { askNextGeneration, type GenerationsSpec, superviseGenerations, untilAnswered } from "./generations.ts";
import { resourceLabels } from "./labels.ts";
import { LoopbackContainer } from "./loopback-container.ts";

/** The name builders use for the registry inside the environment's network. */
const REGISTRY_ALIAS = "registry";
const PORT = 5000;

/** Each registry process of the container stores its content in /var/lib/registry/<generation>. */
const REGISTRY_GENERATIONS: GenerationsSpec = {
  service: "registry",
  root: "/var/lib/registry",
  stateDir: { env: "REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY" },
};

export interface StartedRegistry {
  readonly container: StartedTestContainer;
  /** Which registry process of the container this is, from 1 (generations.ts). */
  readonly generation: number;
  /** host:port as seen by buildkitd inside the network, used in image references. */
  readonly hostInNetwork: string;
  /** http://127.0.0.1:port, as seen by the harness on the host. */
  readonly urlFromHost: string;
  /** The harness's base images, pushed when it started: a fresh registry holds these and nothing else. */
  readonly baseImages: ReadonlyMap<string, PushedBaseImage>;
}

/** Starts a registry container in `network`, where builders reach it as `registry:5000`. */
async function startRegistry(image: ProvisionedImage, network: StartedNetwork): Promise<StartedRegistry> {
  const container = await new LoopbackContainer(image.reference)
    .withNetwork(network)
    .withNetworkAliases(REGISTRY_ALIAS)
    .withLabels(resourceLabels())
    .withCopyContentToContainer([{ content: REGISTRY_CONFIG, target: "/etc/docker/registry/config.yml" }])
    .withTmpFs({ [REGISTRY_GENERATIONS.root]: `rw,size=${process.env.BUILDKIT_REPRO_REGISTRY_SIZE ?? "2g"}` })
    .withEntrypoint(["/bin/sh", "-c", superviseGenerations(REGISTRY_GENERATIONS), "registry-generations"])
    .withCommand(["/bin/registry", "serve", "/etc/docker/registry/config.yml"])
    .withExposedPorts(PORT)
    .withWaitStrategy(Wait.forHttp("/v2/", PORT).forStatusCode(200))
    .withStartupTimeout(30_000)
    .start()
    .catch((err: unknown) => {
      throw new HarnessError(
        "REGISTRY_ERROR",
        `The test registry (${image.description}) did not answer on /v2/: ${(err as Error).message}`,
        "Check that this host can reach ports Docker publishes on 127.0.0.1 (`docker run -p 127.0.0.1::5000 ...` then curl), and the engine's log.",
        { cause: err },
      );
    });
  const registry = { container, generation: 1, hostInNetwork: `${REGISTRY_ALIAS}:${PORT}`, urlFromHost: `http://127.0.0.1:${container.getMappedPort(PORT)}` };
  try {
    return { ...registry, baseImages: await withBaseImages(registry.urlFromHost, registry.hostInNetwork) };
  } catch (err) {
    await container.stop({ timeout: 0 }).catch(() => undefined);
    throw err;
  }
}

function withBaseImages(urlFromHost: string, hostInNetwork: string): Promise<Map<string, PushedBaseImage>> {
  return pushBaseImages(new RegistryClient(urlFromHost), BASE_IMAGES, hostInNetwork);
}

/**
 * Resolves once the registry at `url` answers and lists no repository: the next
 * generation, on empty storage (the one before it always holds the base images).
 */
function emptyRegistryAnswers(url: string, timeoutMs = 15_000): Promise<void> {
  return untilAnswered(
    async () => {
      const res = await fetch(`${url}/v2/_catalog`, { signal: AbortSignal.timeout(2_000) });
      if (!res.ok) return { notYet: `HTTP ${res.status}` };
      const body = (await res.json()) as { repositories?: string[] | null };
      return (body.repositories ?? []).length === 0 ? { answered: undefined } : { notYet: "the previous registry still answers" };
    },
    timeoutMs,
    (last) =>
      new HarnessError(
        "REGISTRY_ERROR",
        `The fresh test registry at ${url} did not answer with empty storage within ${timeoutMs / 1000} s: ${last}`,
        "Check the registry container's log.",
      ),
  );
}

/**
 * An environment's registry: the one builders reach as `registry:5000` in its network. A
 * fresh registry is the same container's next registry process, on empty storage, given
 * the base images; a new container only when the one before is gone.
 */
export class RegistrySeat {
  private constructor(
    private readonly image: ProvisionedImage,
    private readonly network: StartedNetwork,
    private seated: StartedRegistry,
  ) {}

  static async open(image: ProvisionedImage, network: StartedNetwork): Promise<RegistrySeat> {
    return new RegistrySeat(image, network, await withTimeout("environmentStart", "Starting a registry", startRegistry(image, network)));
  }

  get current(): StartedRegistry {
    return this.seated;
  }

  /** Replaces the registry with a fresh one (only the base images) under the same name, so builders need no change. */
  async fresh(): Promise<StartedRegistry> {
    this.seated = await withTimeout("environmentStart", "Starting a fresh registry", this.next(this.seated));
    return this.seated;
  }

  private async next(old: StartedRegistry): Promise<StartedRegistry> {
    if (!(await containerFate(old.container.getId())).running) {
      await old.container.stop({ timeout: 0 }).catch(() => undefined);
      return startRegistry(this.image, this.network);
    }
    const generation = await askNextGeneration(old.container.getId(), old.generation);
    // From here the container runs that generation: a registry gone is this one, not the old.
    this.seated = { ...old, generation };
    await emptyRegistryAnswers(old.urlFromHost);
    return { ...old, generation, baseImages: await withBaseImages(old.urlFromHost, old.hostInNetwork) };
  }

  async close(): Promise<void> {
    await this.seated.container.stop({ timeout: 0 });
  }
}
