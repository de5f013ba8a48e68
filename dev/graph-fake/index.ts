export {
  startGraphFake,
  type FakeGroup,
  type FakeUser,
  type GraphFake,
  type GraphFakeOptions,
  type GraphFakeStats,
} from './server.ts';
