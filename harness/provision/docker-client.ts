import Dockerode from "dockerode";

/** The process's client of the Docker engine (DOCKER_HOST or the local socket, read once). */
export const docker = new Dockerode();
