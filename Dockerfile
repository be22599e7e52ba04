# One image for API nodes and workers; the command picks the role.
FROM node:20-bookworm
WORKDIR /app
COPY package.json package-lock.json turbo.json tsconfig.base.json ./
COPY apps ./apps
COPY libs ./libs
COPY scripts ./scripts
RUN npm ci --no-audit --no-fund && npm run build -w @ragstream/web
ENV HOST=0.0.0.0 DATA_DIR=/data
CMD ["npm", "run", "api"]
