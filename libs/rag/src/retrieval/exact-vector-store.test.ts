import { ExactVectorStore } from './exact-vector-store.ts';
import { describeVectorStoreContract } from './vector-store-contract.ts';

// The reference store must itself meet the contract it is used to check.
describeVectorStoreContract('ExactVectorStore', async () => ({ store: new ExactVectorStore(8), dimensions: 8 }));
