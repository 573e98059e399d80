/**
 * For tools that record fixtures or measure evidence by hand: one version's environment,
 * started, with the harness's base images pushed into its registry. Scenarios do not use
 * this (each attempt gets its own fresh registry); tools stop the environment themselves.
 */
import { BuildkitEnvironment, provisionVersion } from "../environment/environment.ts";
import { RegistryClient } from "../oci/registry-client.ts";
import { BASE_IMAGES, pushBaseImages } from "../provision/base-images.ts";

export async function startToolEnvironment(version: string): Promise<{ env: BuildkitEnvironment; images: Map<string, string> }> {
  const env = await BuildkitEnvironment.start(await provisionVersion(version));
  try {
    const pushed = await pushBaseImages(new RegistryClient(env.registry.urlFromHost), BASE_IMAGES, env.registry.hostInNetwork);
    return { env, images: new Map([...pushed].map(([name, image]) => [name, image.reference])) };
  } catch (err) {
    await env.stop();
    throw err;
  }
}
