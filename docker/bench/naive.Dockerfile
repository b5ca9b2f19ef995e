# The naive image `npm run bench:images` compares against: the whole workspace (sources and every
# node_modules, dev tools included) copied in and run through tsx. Same base image as the real ones.
ARG BASE_IMAGE=node:24-bookworm-slim
FROM ${BASE_IMAGE}
ARG SERVICE
ENV NODE_ENV=production
WORKDIR /workspace
COPY . .
WORKDIR /workspace/apps/${SERVICE}
USER 1000:1000
ENTRYPOINT ["node", "--import", "tsx", "src/main.ts"]
CMD ["serve"]
