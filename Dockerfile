# Ferry worker and control API (one image; docker-compose.yml picks the command).
# TypeScript runs directly through tsx (a production dependency): there is no build step.
FROM node:20-bookworm-slim

ENV NODE_ENV=production \
    FERRY_DATA_DIR=/var/lib/ferry \
    HOST=0.0.0.0 \
    PORT=8080

WORKDIR /app

COPY package.json package-lock.json ./
# `npm install` honours package-lock.json; `npm ci` refuses it because the lock lacks the other
# platforms' builds of @swc/core's optional packages (see .ci/run).
RUN npm install --omit=dev --no-audit --no-fund && npm cache clean --force

COPY . .

RUN mkdir -p /var/lib/ferry && chown node:node /var/lib/ferry
USER node

EXPOSE 8080
CMD ["npm", "run", "worker"]
